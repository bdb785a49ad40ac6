# Step 1 of 3 (style rule 20): add the column, nullable; 0004 fills it, 0005 constrains it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("routes", "0002_readable_choice_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="route",
            name="canonical_pattern",
            field=models.CharField(editable=False, max_length=500, null=True),
        ),
    ]
