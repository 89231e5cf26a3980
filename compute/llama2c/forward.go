package llama2c

import (
	"math"
	"runtime"
	"sync"
)

// parMinWork is the size (rows × columns) from which a matrix-vector
// product is split across goroutines. Below it, starting and joining the
// goroutines costs more than they save: every matrix of stories260K is
// below it (measured: splitting made it slower), stories15M's are above.
const parMinWork = 1 << 16

// maxPar bounds the goroutines one matrix-vector product uses.
const maxPar = 8

// state is one generation's activations and KV cache. It belongs to one
// goroutine; the model it reads is shared and never written.
type state struct {
	m     *Model
	steps int // positions the KV cache holds
	par   int // goroutines for a large matmul (1: none)

	x, xb, xb2 []float32 // dim
	hb, hb2    []float32 // hidden
	q          []float32 // dim
	att        []float32 // steps
	logits     []float32 // vocab
	cos, sin   []float32 // headSize/2: RoPE rotation at the current position
	kc, vc     []float32 // layers × steps × kvDim
}

func (m *Model) newState(steps int) *state {
	c := m.cfg
	kv := c.Layers * steps * c.kvDim()
	return &state{
		m: m, steps: steps, par: min(runtime.GOMAXPROCS(0), maxPar),
		x: make([]float32, c.Dim), xb: make([]float32, c.Dim), xb2: make([]float32, c.Dim),
		hb: make([]float32, c.Hidden), hb2: make([]float32, c.Hidden),
		q: make([]float32, c.Dim), att: make([]float32, steps), logits: make([]float32, c.Vocab),
		cos: make([]float32, c.headSize()/2), sin: make([]float32, c.headSize()/2),
		kc: make([]float32, kv), vc: make([]float32, kv),
	}
}

// forward runs token tok at position pos (< s.steps) through the model,
// filling the KV cache at pos. With wantLogits it returns the next-token
// logits (valid until the next call); prompt tokens before the last skip
// the classifier.
func (s *state) forward(tok int32, pos int, wantLogits bool) []float32 {
	c, w := s.m.cfg, &s.m.w
	dim, hid, hs, kvDim := c.Dim, c.Hidden, c.headSize(), c.kvDim()
	kvMul := c.Heads / c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hs)))

	copy(s.x, w.emb[int(tok)*dim:][:dim])
	s.ropeAngles(pos, hs)
	for l := range c.Layers {
		rmsnorm(s.xb, s.x, w.rmsAtt[l*dim:][:dim])
		layer := l * s.steps * kvDim
		k := s.kc[layer+pos*kvDim:][:kvDim]
		v := s.vc[layer+pos*kvDim:][:kvDim]
		s.matmul(s.q, s.xb, w.wq[l*dim*dim:][:dim*dim])
		s.matmul(k, s.xb, w.wk[l*kvDim*dim:][:kvDim*dim])
		s.matmul(v, s.xb, w.wv[l*kvDim*dim:][:kvDim*dim])
		rotate(s.q, s.cos, s.sin)
		rotate(k, s.cos, s.sin)

		for h := range c.Heads {
			off := layer + (h/kvMul)*hs
			attend(s.xb[h*hs:][:hs], s.q[h*hs:][:hs], s.kc[off:], s.vc[off:], s.att[:pos+1], kvDim, scale)
		}
		s.matmul(s.xb2, s.xb, w.wo[l*dim*dim:][:dim*dim])
		add(s.x, s.xb2)

		rmsnorm(s.xb, s.x, w.rmsFFN[l*dim:][:dim])
		s.matmul(s.hb, s.xb, w.w1[l*hid*dim:][:hid*dim])
		s.matmul(s.hb2, s.xb, w.w3[l*hid*dim:][:hid*dim])
		swiglu(s.hb, s.hb2)
		s.matmul(s.xb, s.hb, w.w2[l*dim*hid:][:dim*hid])
		add(s.x, s.xb)
	}
	if !wantLogits {
		return nil
	}
	rmsnorm(s.x, s.x, w.rmsFinal)
	s.matmul(s.logits, s.x, w.wcls)
	return s.logits
}

// attend sets out to one head's attention over len(att) positions: q
// against the keys kc[t*stride:][:len(q)], softmax, then the weighted sum of
// the values vc likewise. att is scratch.
func attend(out, q, kc, vc, att []float32, stride int, scale float32) {
	hs := len(q)
	for t := range att {
		k := kc[t*stride:][:hs]
		var sum float32
		for i, qv := range q {
			sum += qv * k[i]
		}
		att[t] = sum * scale
	}
	softmax(att)
	clear(out)
	for t, a := range att {
		axpy(out, a, vc[t*stride:][:hs])
	}
}

// ropeAngles sets the rotation of each pair of a head at pos, computed in
// float32 as llama2.c does.
func (s *state) ropeAngles(pos, hs int) {
	for i := range s.cos {
		freq := float32(1 / math.Pow(10000, float64(float32(2*i)/float32(hs))))
		val := float64(float32(pos) * freq)
		s.cos[i] = float32(math.Cos(val))
		s.sin[i] = float32(math.Sin(val))
	}
}

// rotate applies RoPE to every head of vec (a multiple of 2*len(cos) long).
func rotate(vec, cos, sin []float32) {
	half := len(cos)
	for h := 0; h+2*half <= len(vec); h += 2 * half {
		head := vec[h : h+2*half]
		for i := range half {
			v0, v1 := head[2*i], head[2*i+1]
			head[2*i] = v0*cos[i] - v1*sin[i]
			head[2*i+1] = v0*sin[i] + v1*cos[i]
		}
	}
}

// matmul sets out = W·x for W of len(out) rows by len(x) columns,
// splitting the rows across goroutines when the matrix is large.
func (s *state) matmul(out, x, w []float32) {
	d, n := len(out), len(x)
	if s.par < 2 || d*n < parMinWork {
		matmulRows(out, x, w, 0, d)
		return
	}
	chunk := (d + s.par - 1) / s.par
	var wg sync.WaitGroup
	for lo := 0; lo < d; lo += chunk {
		hi := min(lo+chunk, d)
		wg.Go(func() { matmulRows(out, x, w, lo, hi) })
	}
	wg.Wait()
}

func matmulRows(out, x, w []float32, lo, hi int) {
	n := len(x)
	for i := lo; i < hi; i++ {
		out[i] = dot(w[i*n:(i+1)*n], x)
	}
}

// dot is the inner product of a and b[:len(a)], with four accumulators.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		aa, bb := a[i:i+4:i+4], b[i:i+4:i+4]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// axpy sets y += a·x.
func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

func add(y, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += x[i]
	}
}

// rmsnorm sets out = weight ⊙ x / rms(x).
func rmsnorm(out, x, weight []float32) {
	x, weight = x[:len(out)], weight[:len(out)]
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	ss = ss/float32(len(x)) + 1e-5
	inv := float32(1 / math.Sqrt(float64(ss)))
	for i := range out {
		out[i] = weight[i] * (inv * x[i])
	}
}

// softmax normalises x in place.
func softmax(x []float32) {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range x {
		e := expf(v - m)
		x[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range x {
		x[i] *= inv
	}
}

// swiglu sets h = silu(h) ⊙ g.
func swiglu(h, g []float32) {
	g = g[:len(h)]
	for i, v := range h {
		h[i] = v * float32(1/(1+math.Exp(-float64(v)))) * g[i]
	}
}

// expf is e^x in float32 arithmetic, within a few ulp of math.Exp for the
// x ≤ 0 that softmax passes (and for any x up to 88): x = n·ln2 + r with
// |r| ≤ ln2/2, e^r by its degree-6 Taylor polynomial, times 2^n.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375 // ln2 split so that n·ln2hi is exact
		ln2lo = -2.12194440e-4
	)
	switch {
	case x < -87.3: // below the smallest normal float32
		return 0
	case x > 88.7:
		return float32(math.Inf(1))
	case x != x: // NaN
		return x
	}
	f := x * log2e
	var ni int32 // f rounded to nearest
	if f < 0 {
		ni = int32(f - 0.5)
	} else {
		ni = int32(f + 0.5)
	}
	n := float32(ni)
	r := x - n*ln2hi - n*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
	if ni > 127 { // 2^128 is not a float32; e^x still is
		return p * 2 * math.Float32frombits(uint32(254)<<23)
	}
	return p * math.Float32frombits(uint32(ni+127)<<23)
}
