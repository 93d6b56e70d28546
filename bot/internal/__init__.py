"""The internal services behind the hub (the Rasa server and the action server):
how each is started, and how it checks that the caller holds its token."""
