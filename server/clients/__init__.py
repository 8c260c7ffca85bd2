"""Adapters to remote platforms (KoBoToolbox, ODK Central), one ``requests`` session each.

Services never build a client: the CLI or a view builds one from configuration and passes it in
as a ``RemoteServer``. Their fakes live in ``tests/``, never here.
"""
