"""The public web archive: a static site of published issues with an Atom feed."""
