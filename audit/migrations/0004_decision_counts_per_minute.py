"""Per-minute decision counts (the overview's chart); help texts that showed as stray text go."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_decision_indexes_for_the_admin'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(db_index=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='decisionrecord',
            name='detail',
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name='decisionrecord',
            name='path',
            field=models.CharField(blank=True, max_length=2000),
        ),
        migrations.AlterField(
            model_name='decisionrecord',
            name='route_label',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.CreateModel(
            name='DecisionCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('minute', models.DateTimeField()),
                ('reason', models.CharField(max_length=32)),
                ('count', models.BigIntegerField()),
            ],
            options={
                'ordering': ['-minute', 'reason'],
                'constraints': [models.UniqueConstraint(fields=('minute', 'reason'), name='audit_decisioncount_uniq'), models.CheckConstraint(condition=models.Q(('count__gte', 0)), name='audit_decisioncount_count_positive')],
            },
        ),
    ]
