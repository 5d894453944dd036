# The dealer network: kinds, addresses, coordinates, opening hours, services and their invariants.

import django.db.models.deletion
from django.db import migrations, models

import forecourt.dealers.models


def fill_existing_dealers(apps, schema_editor):
    """Rows from before this migration become full-line 4S dealers placed at their city's centre."""
    Dealer = apps.get_model("dealers", "Dealer")
    for dealer in Dealer.objects.select_related("city").iterator():
        dealer.latitude = dealer.city.latitude
        dealer.longitude = dealer.city.longitude
        dealer.offers_sales = dealer.offers_test_drive = dealer.offers_delivery = dealer.offers_service = True
        dealer.save(
            update_fields=[
                "latitude", "longitude", "offers_sales", "offers_test_drive", "offers_delivery", "offers_service"
            ]
        )


class Migration(migrations.Migration):

    dependencies = [
        ("dealers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="city",
            name="province_en",
            field=models.CharField(blank=True, max_length=60),
        ),
        migrations.AddField(
            model_name="dealer",
            name="kind",
            field=models.CharField(
                choices=[
                    ("dealer_4s", "4S dealer"),
                    ("experience_store", "Experience store"),
                    ("delivery_centre", "Delivery centre"),
                    ("service_centre", "Service centre"),
                ],
                default="dealer_4s",
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="dealer",
            name="address",
            field=models.CharField(default="", max_length=200, verbose_name="address"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="dealer",
            name="latitude",
            field=models.DecimalField(decimal_places=6, max_digits=9, null=True, verbose_name="latitude"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="longitude",
            field=models.DecimalField(decimal_places=6, max_digits=9, null=True, verbose_name="longitude"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="phone",
            field=models.CharField(blank=True, max_length=30, verbose_name="phone"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="opening_hours",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Per weekday: {"mon": ["09:00", "21:00"], ...}; a day left out is closed.',
                validators=[forecourt.dealers.models.validate_opening_hours],
                verbose_name="opening hours",
            ),
        ),
        migrations.AddField(
            model_name="dealer",
            name="offers_sales",
            field=models.BooleanField(default=False, verbose_name="offers sales"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="offers_test_drive",
            field=models.BooleanField(default=False, verbose_name="offers test drives"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="offers_delivery",
            field=models.BooleanField(default=False, verbose_name="offers delivery"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="offers_service",
            field=models.BooleanField(default=False, verbose_name="offers service"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="lead_capacity",
            field=models.PositiveIntegerField(default=50, verbose_name="lead capacity"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="demo_car_count",
            field=models.PositiveIntegerField(default=0, verbose_name="demo cars"),
        ),
        migrations.AddField(
            model_name="dealer",
            name="is_active",
            field=models.BooleanField(default=True, verbose_name="active"),
        ),
        migrations.RunPython(fill_existing_dealers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dealer",
            name="latitude",
            field=models.DecimalField(decimal_places=6, max_digits=9, verbose_name="latitude"),
        ),
        migrations.AlterField(
            model_name="dealer",
            name="longitude",
            field=models.DecimalField(decimal_places=6, max_digits=9, verbose_name="longitude"),
        ),
        migrations.AlterField(
            model_name="dealer",
            name="city",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="dealers",
                to="dealers.city",
                verbose_name="city",
            ),
        ),
        migrations.AlterField(
            model_name="dealer",
            name="name",
            field=models.CharField(max_length=120, verbose_name="name"),
        ),
        migrations.AlterField(
            model_name="dealer",
            name="public_id",
            field=models.CharField(
                default=forecourt.dealers.models.new_dealer_public_id, editable=False, max_length=32, unique=True
            ),
        ),
        migrations.AddIndex(
            model_name="dealer",
            index=models.Index(fields=["latitude", "longitude"], name="dealer_position_idx"),
        ),
        migrations.AddConstraint(
            model_name="city",
            constraint=models.CheckConstraint(
                condition=models.Q(("latitude__gte", -90), ("latitude__lte", 90)), name="city_latitude_in_range",
                violation_error_message="Latitude must be between -90 and 90.",
            ),
        ),
        migrations.AddConstraint(
            model_name="city",
            constraint=models.CheckConstraint(
                condition=models.Q(("longitude__gte", -180), ("longitude__lte", 180)), name="city_longitude_in_range",
                violation_error_message="Longitude must be between -180 and 180.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(("latitude__gte", -90), ("latitude__lte", 90)), name="dealer_latitude_in_range",
                violation_error_message="Latitude must be between -90 and 90.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(("longitude__gte", -180), ("longitude__lte", 180)),
                name="dealer_longitude_in_range",
                violation_error_message="Longitude must be between -180 and 180.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("kind__in", ["dealer_4s", "experience_store", "delivery_centre", "service_centre"])
                ),
                name="dealer_kind_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "dealer_4s"), _negated=True),
                    models.Q(
                        ("offers_delivery", True),
                        ("offers_sales", True),
                        ("offers_service", True),
                        ("offers_test_drive", True),
                    ),
                    _connector="OR",
                ),
                name="dealer_4s_offers_everything",
                violation_error_message="A 4S dealer offers sales, test drives, delivery and service.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "experience_store"), _negated=True),
                    models.Q(("offers_sales", False), ("offers_service", False)),
                    _connector="OR",
                ),
                name="experience_store_never_sells_or_services",
                violation_error_message="An experience store may not offer sales or service.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "delivery_centre"), _negated=True),
                    models.Q(("offers_delivery", True), ("offers_service", False)),
                    _connector="OR",
                ),
                name="delivery_centre_delivers_no_service",
                violation_error_message="A delivery centre offers delivery and no service.",
            ),
        ),
        migrations.AddConstraint(
            model_name="dealer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "service_centre"), _negated=True),
                    models.Q(("offers_sales", False), ("offers_service", True)),
                    _connector="OR",
                ),
                name="service_centre_services_never_sells",
                violation_error_message="A service centre offers service and no sales.",
            ),
        ),
    ]
