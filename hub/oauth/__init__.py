"""OAuth 2.0 for partner systems: the client-credentials grant, bearer
tokens stored only as hashes, and RFC 7009 revocation (Authlib)."""
