"""Reports as people read them: HTML pages, their charts and their PDF.

Rendering is neither a surface (it answers no request) nor a service (it speaks HTML), so it
has a place of its own that the pages and the CLI share: the PDF a CLI command writes is the
page a planner sees, from the same template.
"""
