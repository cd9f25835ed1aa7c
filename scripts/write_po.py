"""Write a .po file from a {msgid: msgstr} dict in a Python file (DICT.py OUT.po)."""

import runpy
import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

table = runpy.run_path(sys.argv[1])["T"]
catalog = Catalog(locale="id", project="coop-audit", charset="utf-8")
for msgid, msgstr in table.items():
    catalog.add(msgid, msgstr, flags=("python-format",) if "%(" in msgid else ())
with open(sys.argv[2], "wb") as fh:
    write_po(fh, catalog, width=100, omit_header=False)
