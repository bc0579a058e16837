"""Self-service: the help center's content (categories > sections > articles, their translations
and versions), what customers search for and do, and the company's real service locations.
One module per concern; everything is importable from ``knowledge.models``."""
from knowledge.models.content import *  # noqa: F401,F403
from knowledge.models.analytics import *  # noqa: F401,F403
from knowledge.models.locations import *  # noqa: F401,F403
from knowledge.models.gaps import *  # noqa: F401,F403
from knowledge.models.search import *  # noqa: F401,F403
