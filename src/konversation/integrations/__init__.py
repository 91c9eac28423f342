"""Settings of outside services a workspace connects (shops, OpenAI, S3, Meta), and their uses."""
