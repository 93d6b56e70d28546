"""NLU parts the Rasa pipeline in config.yml uses: spaCy pipeline, entity
normalisation, and the sentiment component."""
