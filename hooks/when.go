package hooks

// When scopes an editor to some rows, in absolute terms so that a scope
// means the same thing in a packed prefill and in each decode step. The zero
// value matches every row.
type When struct {
	Phases Phase   // phases to act in; 0 means every phase
	MinPos int32   // inclusive lower bound on the absolute position
	EndPos int32   // exclusive upper bound on the absolute position; 0 means none
	Tags   []int32 // tags to act on; empty means every row, including untagged ones
}

// Everywhere reports whether w matches every row, letting editors skip the
// per-row test.
func (w *When) Everywhere() bool {
	return (w.Phases == 0 || w.Phases&AnyPhase == AnyPhase) && w.MinPos <= 0 && w.EndPos == 0 && len(w.Tags) == 0
}

// MatchCall reports whether w can match any row of a call in this phase.
func (w *When) MatchCall(rows *Rows) bool {
	if w.Phases == 0 {
		return true
	}
	return rows != nil && w.Phases&rows.Phase != 0
}

// Match reports whether w selects row r of a call. A scope that tests
// positions or tags never matches rows lacking that metadata.
func (w *When) Match(rows *Rows, r int) bool {
	if !w.MatchCall(rows) {
		return false
	}
	if w.MinPos > 0 || w.EndPos != 0 {
		if rows == nil || r >= len(rows.Pos) {
			return false
		}
		pos := rows.Pos[r]
		if pos < w.MinPos || (w.EndPos != 0 && pos >= w.EndPos) {
			return false
		}
	}
	if len(w.Tags) > 0 {
		if rows == nil || r >= len(rows.Tag) {
			return false
		}
		tag := rows.Tag[r]
		for _, t := range w.Tags {
			if t == tag {
				return true
			}
		}
		return false
	}
	return true
}
