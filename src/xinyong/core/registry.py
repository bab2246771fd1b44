"""Imports every module's tables so that the metadata is complete (migrations, tests)."""

from xinyong.accounts import models as accounts_models  # noqa: F401
from xinyong.core import models as core_models  # noqa: F401
from xinyong.core.db import Base
from xinyong.ingest import models as ingest_models  # noqa: F401
from xinyong.records import models as records_models  # noqa: F401
from xinyong.subjects import models as subjects_models  # noqa: F401
from xinyong.web import models as web_models  # noqa: F401

metadata = Base.metadata
