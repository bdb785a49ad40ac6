"""Indexes for every filter of the decision list, each with the time order; `shape` is a plain
name (authz keeps the list of proxy shapes)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0002_decision_record'),
    ]

    operations = [
        migrations.AlterField(
            model_name='decisionrecord',
            name='shape',
            field=models.CharField(max_length=16),
        ),
        migrations.AddIndex(
            model_name='decisionrecord',
            index=models.Index(fields=['-time', '-id'], name='audit_decision_time_idx'),
        ),
        # The old time-only index goes once its replacement exists.
        migrations.AlterField(
            model_name='decisionrecord',
            name='time',
            field=models.DateTimeField(),
        ),
        migrations.AddIndex(
            model_name='decisionrecord',
            index=models.Index(condition=models.Q(('detail', ''), _negated=True), fields=['detail', '-time'], name='audit_decision_detail_idx'),
        ),
        migrations.AddIndex(
            model_name='decisionrecord',
            index=models.Index(fields=['shape', '-time'], name='audit_decision_shape_idx'),
        ),
        migrations.AddIndex(
            model_name='decisionrecord',
            index=models.Index(fields=['source_ip', '-time'], name='audit_decision_source_idx'),
        ),
    ]
