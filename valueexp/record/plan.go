package record

import "errors"

// Plan is the work a ModeText run will do, counted without running the
// model.
type Plan struct {
	Texts  int   // texts (items) of the shard
	Tokens int64 // tokens counted, every one fed through a forward pass
	Passes int   // forward passes (packed batches)
	Cut    int   // texts cut at the context length
}

// PlanText counts the texts, tokens and packed passes Run will process for
// the job's shard in ModeText, tokenizing every text the way Run does and
// packing batches with the same rule (a text that does not fit starts the
// next batch; a longer one runs alone). ModeGenerated depends on what the
// model answers and is not planned.
func (j *Job) PlanText() (Plan, error) {
	if j.Mode == "" {
		j.Mode = ModeText
	}
	if err := j.setDefaults(); err != nil {
		return Plan{}, err
	}
	if j.Mode != ModeText {
		return Plan{}, errors.New("record: only --count text runs can be planned")
	}
	var p Plan
	size := j.Shard.Size(len(j.Units))
	r := runner{job: j}
	batch := 0
	for k := 0; k < size; k++ {
		ids, cut := r.unitTokens(j.Units[j.Shard.Item(k)], j.Model.Config.ContextLength, false)
		if cut {
			p.Cut++
		}
		if batch > 0 && batch+len(ids) > j.BatchTokens {
			p.Passes++
			batch = 0
		}
		batch += len(ids)
		p.Tokens += int64(len(ids))
		p.Texts++
	}
	if size > 0 {
		p.Passes++
	}
	return p, nil
}
