package llama2c

import (
	"math"
	"testing"
)

func TestExpf(t *testing.T) {
	for x := float32(-87); x <= 88.7; x += 0.0137 {
		want := math.Exp(float64(x))
		got := float64(expf(x))
		if rel := math.Abs(got-want) / want; rel > 4e-7 {
			t.Fatalf("expf(%v) = %v, math.Exp = %v (relative error %.2g)", x, got, want, rel)
		}
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) || expf(0) != 1 {
		t.Errorf("expf edges: e^-100 = %v, e^100 = %v, e^0 = %v", expf(-100), expf(100), expf(0))
	}
	if nan := float32(math.NaN()); !math.IsNaN(float64(expf(nan))) {
		t.Error("expf(NaN) is not NaN")
	}
}

func TestSoftmaxAndRMSNorm(t *testing.T) {
	x := []float32{1, 2, 3}
	softmax(x)
	want := []float64{0.09003057, 0.24472847, 0.66524096}
	for i := range x {
		if math.Abs(float64(x[i])-want[i]) > 1e-6 {
			t.Errorf("softmax[%d] = %v, want %v", i, x[i], want[i])
		}
	}
	out := make([]float32, 2)
	rmsnorm(out, []float32{3, 4}, []float32{1, 2})
	// rms = sqrt((9+16)/2) = 3.5355
	if math.Abs(float64(out[0])-0.8485280) > 1e-5 || math.Abs(float64(out[1])-2.2627417) > 1e-5 {
		t.Errorf("rmsnorm = %v", out)
	}
}
