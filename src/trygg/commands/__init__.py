"""Command groups of the ``trygg`` CLI, one module each with ``register(app)``: adapters at the
top of the house, so the packages they drive (media, policy, age, cases, reports, the lab) never
import the engine or the CLI back."""
