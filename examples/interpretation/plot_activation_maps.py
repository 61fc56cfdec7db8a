"""
Where the network looks: class activation maps
==============================================

Map the evidence for the top ImageNet class over an image, with the ResNet152
shipped by the optional ``resmem`` package (non-commercial licence): for each
location, how much it adds to the class score
(:func:`~skmem.explain.class_activation_maps`).
"""

import importlib.util

from skimage import data
from torchvision.models import ResNet152_Weights

from skmem import CNNFeaturizer
from skmem.explain import class_activation_maps, network_view, plot_activation_maps

if importlib.util.find_spec("resmem") is not None:
    featurizer = CNNFeaturizer("resmem_resnet152").fit()
else:  # without pretrained weights the map shows no real evidence
    featurizer = CNNFeaturizer("resnet18", weights=None, random_state=0).fit()
# ImageNet class names ship with torchvision's weight descriptions (no download)
names = ResNet152_Weights.DEFAULT.meta["categories"]

# %%
# A cat and a cup of coffee. The map is scaled per image from the weakest
# location (0) to the strongest (1) and drawn on the image as the network sees
# it (resized and centre-cropped).
images = data.chelsea()[None], data.coffee()[None, :300, :451]
for image in images:
    maps, classes = class_activation_maps(featurizer, image, return_targets=True)
    print(f"top class: {names[classes[0]]}")
    plot_activation_maps(network_view(featurizer, image), maps, titles=[f"evidence for '{names[classes[0]]}'"])
