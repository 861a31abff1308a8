"""Team mode's fast state several gateways share through Redis: the limits' windows (atomic
scripts) and a lock per account around an OAuth renewal. Loaded only when ``[shared] redis`` is
set; the desktop never imports the client."""
