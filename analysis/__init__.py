"""analysis: where the model fails and which labeling function to write next.

Slice reports and LF suggestions read the labels of ``weak_supervision`` and the predictions of
``finetune``; nothing in those packages imports this one.
"""
