"""The ouvidoria (docs/rules.md#ouvidoria): callers who already contacted the responsible area
reach it, or leave it a message outside its hours; ``ouvidoria list`` shows the contacts."""
