"""Programs shipped into every sandbox image's ``bin`` (see ``sandbox.execenv``)."""
