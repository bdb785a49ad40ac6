# Step 3 of 3: every route has its canonical pattern; make it required and unique per domain.

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("routes", "0004_fill_canonical_pattern"),
    ]

    operations = [
        migrations.AlterField(
            model_name="route",
            name="canonical_pattern",
            field=models.CharField(editable=False, max_length=500),
        ),
        migrations.AddConstraint(
            model_name="route",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("domain"),
                models.F("canonical_pattern"),
                name="routes_route_domain_canonical_pattern_uniq",
                violation_error_message=(
                    "A route on this domain already matches the same paths (placeholder names "
                    "do not matter)."
                ),
            ),
        ),
    ]
