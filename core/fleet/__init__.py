"""Remote transcoders and AI workers over go-livepeer's O–T protocol (issue #14)."""
