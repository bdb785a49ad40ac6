"""The REST admin API's views: thin adapters (parse with a serializer, call one service,
render). Errors become problem details in `api.problems`."""
