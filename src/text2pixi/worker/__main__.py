"""``python -m text2pixi.worker``: a warm worker (see :func:`text2pixi.worker.main`)."""

import sys

from text2pixi.worker import main

sys.exit(main())
