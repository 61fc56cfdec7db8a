"""
Where the network looks: class activation maps
==============================================

Map the evidence for the top ImageNet class over an image, with the ResNet152
shipped by the optional ``resmem`` package (non-commercial licence).
"""

import importlib.util

from skimage import data

from skmem import CNNFeaturizer
from skmem.explain import class_activation_maps, network_view, plot_activation_maps

if importlib.util.find_spec("resmem") is not None:
    featurizer = CNNFeaturizer("resmem_resnet152").fit()
else:  # without pretrained weights the map shows no real evidence
    featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0).fit()

images = data.chelsea()[None], data.coffee()[None, :300, :451]
for image in images:
    maps, classes = class_activation_maps(featurizer, image, return_targets=True)
    plot_activation_maps(network_view(featurizer, image), maps, titles=[f"ImageNet class {classes[0]}"])
