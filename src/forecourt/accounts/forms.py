"""Sign-in forms: a mobile number and an SMS code for consumers, a username and password for staff."""

from django import forms
from django.utils.translation import gettext_lazy as _


class SmsSignInForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "id": "phone",
                "inputmode": "tel",
                "autocomplete": "tel-national",
                "placeholder": _("11-digit mobile number"),
            }
        ),
    )
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        required=False,
        widget=forms.TextInput(
            attrs={
                "id": "code",
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "maxlength": "6",
                "placeholder": _("6-digit code"),
            }
        ),
    )


class PasswordSignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"id": "username", "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(attrs={"id": "password", "autocomplete": "current-password"}),
    )
