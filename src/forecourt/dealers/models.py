"""The dealer network: cities, dealers and stores, and what each offers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class City(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=40)
    name_en = models.CharField(max_length=60, blank=True)
    province = models.CharField(max_length=40)
    latitude = models.DecimalField(max_digits=9, decimal_places=6)
    longitude = models.DecimalField(max_digits=9, decimal_places=6)

    class Meta:
        ordering = ["code"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class Dealer(models.Model):
    public_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="dealers")

    class Meta:
        ordering = ["name"]
        verbose_name = _("dealer")
        verbose_name_plural = _("dealers")

    def __str__(self) -> str:
        return self.name
