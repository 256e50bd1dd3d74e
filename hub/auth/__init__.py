"""People who sign in: accounts, passwords, two-factor codes and sessions.

Sessions are held server-side (one ``auth_sessions`` row each); the browser
keeps only a random token. Signing out, disabling an account or a time-out
ends the row, so a copied cookie stops working at once.
"""
