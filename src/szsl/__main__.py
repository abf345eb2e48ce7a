from szsl.cli import main

raise SystemExit(main())
