"""Server-manager commands: sandboxes of the server's members, content reload, practice channel."""
