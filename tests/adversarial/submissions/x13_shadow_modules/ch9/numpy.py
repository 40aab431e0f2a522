raise SystemExit('shadowed numpy')
