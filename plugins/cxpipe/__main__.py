from cxpipe.cli import main

raise SystemExit(main())
