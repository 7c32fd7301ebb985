package tokenizer

import (
	"sort"
	"sync"
	"unicode/utf8"
)

// Unicode Normalization Form C for tokenizer.json "NFC" normalizers (Qwen).
// The standard library has no normalization, so the data is generated from
// the Unicode database (nfc_table.go) and the algorithm is UAX #15:
// canonical decomposition, canonical ordering, canonical composition.

const (
	hangulS = 0xAC00
	hangulL = 0x1100
	hangulV = 0x1161
	hangulT = 0x11A7
	nL      = 19
	nV      = 21
	nT      = 28
	nS      = nL * nV * nT
)

type nfcData struct {
	compose map[uint64]rune
	// touched holds every rune that may change under NFC or take part in a
	// composition; text without them is already in NFC.
	touched map[rune]bool
}

var nfcOnce = sync.OnceValue(func() *nfcData {
	d := &nfcData{compose: make(map[uint64]rune, len(nfcCompositions)), touched: make(map[rune]bool)}
	for _, c := range nfcCompositions {
		d.compose[uint64(c[0])<<32|uint64(c[1])] = c[2]
		d.touched[c[1]] = true
	}
	for r := range nfcDecompositions {
		d.touched[r] = true
	}
	return d
})

func combiningClass(r rune) int32 {
	if r < 0x300 {
		return 0
	}
	i := sort.Search(len(nfcCombiningClass), func(i int) bool { return nfcCombiningClass[i][1] >= r })
	if i < len(nfcCombiningClass) && nfcCombiningClass[i][0] <= r {
		return nfcCombiningClass[i][2]
	}
	return 0
}

// nfc returns s in Unicode Normalization Form C. Invalid UTF-8 bytes are
// kept as they are.
func nfc(s string) string {
	d := nfcOnce()
	quick := true
	for _, r := range s {
		if r >= 0x300 && (d.touched[r] || combiningClass(r) != 0 || (r >= hangulL && r < hangulL+nL) || (r >= hangulS && r < hangulS+nS)) {
			quick = false
			break
		}
	}
	if quick {
		return s
	}
	// Normalize each run between invalid bytes separately, keeping the
	// invalid bytes in place.
	out := make([]byte, 0, len(s))
	start := 0
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = appendNFC(out, s[start:i], d)
			out = append(out, s[i])
			i++
			start = i
			continue
		}
		i += n
	}
	out = appendNFC(out, s[start:], d)
	return string(out)
}

func appendNFC(out []byte, s string, d *nfcData) []byte {
	var buf []rune
	for _, r := range s {
		switch {
		case r >= hangulS && r < hangulS+nS:
			k := r - hangulS
			buf = append(buf, hangulL+k/(nV*nT), hangulV+(k%(nV*nT))/nT)
			if t := k % nT; t != 0 {
				buf = append(buf, hangulT+t)
			}
		default:
			if dec, ok := nfcDecompositions[r]; ok {
				buf = append(buf, []rune(dec)...)
			} else {
				buf = append(buf, r)
			}
		}
	}
	// Canonical ordering: stable sort of each run of non-starters by class.
	for i := 0; i < len(buf); {
		if combiningClass(buf[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(buf) && combiningClass(buf[j]) != 0 {
			j++
		}
		run := buf[i:j]
		sort.SliceStable(run, func(a, b int) bool { return combiningClass(run[a]) < combiningClass(run[b]) })
		i = j
	}
	// Canonical composition.
	res := buf[:0]
	starter := -1
	lastClass := int32(-1)
	for _, c := range buf {
		cc := combiningClass(c)
		if starter >= 0 && (lastClass < cc || lastClass == 0) {
			if comp, ok := composePair(res[starter], c, d); ok && !(lastClass == 0 && starter != len(res)-1) {
				res[starter] = comp
				continue
			}
		}
		if cc == 0 {
			starter = len(res)
		}
		lastClass = cc
		res = append(res, c)
	}
	for _, r := range res {
		out = utf8.AppendRune(out, r)
	}
	return out
}

func composePair(a, b rune, d *nfcData) (rune, bool) {
	if a >= hangulL && a < hangulL+nL && b >= hangulV && b < hangulV+nV {
		return hangulS + ((a-hangulL)*nV+(b-hangulV))*nT, true
	}
	if a >= hangulS && a < hangulS+nS && (a-hangulS)%nT == 0 && b > hangulT && b < hangulT+nT {
		return a + (b - hangulT), true
	}
	c, ok := d.compose[uint64(a)<<32|uint64(b)]
	return c, ok
}
