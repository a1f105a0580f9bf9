"""The main demo (`bash dev.sh demo`): a short tour of the examples."""
from demos import neuron, players

neuron.main()
players.main([])
