raise SystemExit('shadowed torch')
