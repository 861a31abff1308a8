"""What an administrator does, in process and without HTTP: the one door the app, the admin routes
and the command line all use."""
