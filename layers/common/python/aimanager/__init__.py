"""aimanager: the shared package of every function, shipped as the common Lambda layer."""
