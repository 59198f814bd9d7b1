"""What an insured person does with their phone: sign-up, activation and revocation of phones and
the credentials they hold (checked online here too), family grants, the transit wallet, their
history and settings. No Flask."""
