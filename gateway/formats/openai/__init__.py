"""What OpenAI's Chat and Responses protocols share: the error shape, the model list, embeddings."""
