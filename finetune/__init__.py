"""finetune: export training labels as chat fine-tuning sets, check them, estimate their cost,
run the jobs on any OpenAI-compatible endpoint, and evaluate chat models.

Only :mod:`finetune.client` imports ``openai``; everything else works offline.
"""
