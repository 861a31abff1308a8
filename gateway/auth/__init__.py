"""Who is calling and with what right: callers and their tiers, client keys, the admin's login and sessions,
the local admin token, and the subscription accounts (OAuth sign-ins, imported logins, renewals)."""
