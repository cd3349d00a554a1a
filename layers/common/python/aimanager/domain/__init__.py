"""Pure rules, no I/O: each rule lives here once and is unit-tested table by table."""
