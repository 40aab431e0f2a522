raise SystemExit('shadowed json')
