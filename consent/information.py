"""The plain-language information read to a woman before she consents.

Change the text, change the version: each consent record keeps the version
that was read to her.
"""

INFORMATION_VERSION = "2026-11"

INFORMATION = """\
We would like to share some information about you with {agency}, so that they can help you.

- We will only share the kinds of information you agree to, and only with {agency}.
- We will only share it for the reasons you agree to.
- You can say no. Saying no will not change the support you get from us.
- You can change your mind at any time. Tell any of us and we will stop sharing straight away.
- Your consent lasts until {expires}. We will ask you again before then.
- We keep a record of everything we share about you, and who has seen it. You can ask to see it.
- If we are ever seriously worried that you or someone else is at risk of serious harm, we may have to
  share information without your consent. If that happens, we will tell you unless doing so would put
  you or someone else at risk.
"""
