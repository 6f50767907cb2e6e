"""``flask data import FILE.json``: companies, contacts, specialists and tickets in one transaction.

Each package contributes ordered *sections* (``importer.sections.ImportSection``): ``auth``
the companies and contacts, ``tickets`` the specialists and tickets. The app puts them together
(``app.import_sections``) and passes them in: the importer imports neither package.
"""

from importer.errors import ImportRejected, RecordError
from importer.run import ImportReport, SectionReport, import_data, load_import_file

__all__ = [
    "ImportRejected",
    "ImportReport",
    "RecordError",
    "SectionReport",
    "import_data",
    "load_import_file",
]
