"""A grounded world behind the offline pipeline: true stable facts, plausible volatile values.

``load_world()`` gives the (cached) ``World``; ``World.call(function, arguments)`` answers a
library function the way its service would, as a pure function of the call. See
``composition/world/data/`` for the facts (each file says what is real and what is invented).
"""

from composition.world.world import NotFound, ToolAnswer, World, WorldError, load_world, normalize

__all__ = ["NotFound", "ToolAnswer", "World", "WorldError", "load_world", "normalize"]
