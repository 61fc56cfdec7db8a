"""Sphinx configuration of the skmem documentation."""

import skmem

project = "skmem"
copyright = "skmem developers"
release = version = skmem.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
templates_path = ["_templates"]
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
# scikit-learn's metadata-routing setters are generated per class; they are not skmem's API
autodoc_default_options = {
    "members": True,
    "exclude-members": "set_fit_request,set_predict_request,set_score_request,set_transform_request,"
    "set_partial_fit_request",
}

# One sub-gallery per topic folder (each has a GALLERY_HEADER.rst), in the
# order a new user meets them. Every example runs at build time.
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # a plain list and a name string keep the configuration picklable (Sphinx's cache)
    "subsection_order": [
        f"../examples/{topic}"
        for topic in (
            "getting_started",
            "model_selection",
            "tuning",
            "sequence_models",
            "ranking",
            "mediaeval",
            "multimodal",
            "images",
            "interpretation",
            "scale_out",
            "command_line",
        )
    ],
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    "download_all_examples": False,
}

html_theme = "pydata_sphinx_theme"
html_title = "skmem"
exclude_patterns = ["_build"]
