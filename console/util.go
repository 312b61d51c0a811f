package console

import (
	"encoding/base64"
	"strconv"
)

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func formatFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }
