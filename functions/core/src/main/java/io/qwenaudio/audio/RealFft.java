package io.qwenaudio.audio;

import java.util.ArrayList;
import java.util.List;


/**
 * Allocation-free forward FFT of a real frame of even length n (n/2 made of the factors 2, 3, 4 and 5), computed
 * as a complex FFT of n/2 points (mixed-radix Stockham, precomputed twiddles) plus the usual split step. Output
 * in JTransforms' packed layout: {@code [Re0, Re(n/2), Re1, Im1, ..., Re(n/2-1), Im(n/2-1)]}.
 *
 * <p>Written here because JTransforms' {@code DoubleFFT_1D.realForward} allocates an n-sized scratch array on
 * every call for non-power-of-two sizes such as 400; at 3000 frames per window that garbage dominated the
 * run time (first-touch page faults of fresh heap). It is tested against JTransforms.
 * Not thread-safe: one instance per thread.
 */
final class RealFft {

    private final int n;
    private final int half;
    private final int[] radices;
    private final double[][] twRe;   // [stage][j * R + r]
    private final double[][] twIm;
    private final double[] splitRe;  // e^{-2 pi i k / n}, k = 0..half
    private final double[] splitIm;
    private final double[] ar;
    private final double[] ai;
    private final double[] br;
    private final double[] bi;
    private final double[] vr = new double[3];
    private final double[] vi = new double[3];

    RealFft(int n) {
        if (n < 4 || n % 2 != 0) {
            throw new IllegalArgumentException("RealFft needs an even length >= 4, got " + n);
        }
        this.n = n;
        this.half = n / 2;
        this.radices = factor(half);
        twRe = new double[radices.length][];
        twIm = new double[radices.length][];
        int ns = 1;
        for (int s = 0; s < radices.length; s++) {
            int r = radices[s];
            int count = half / r;
            twRe[s] = new double[count * r];
            twIm[s] = new double[count * r];
            for (int j = 0; j < count; j++) {
                double angle = -2 * Math.PI * (j % ns) / (ns * r);
                for (int q = 0; q < r; q++) {
                    twRe[s][j * r + q] = Math.cos(q * angle);
                    twIm[s][j * r + q] = Math.sin(q * angle);
                }
            }
            ns *= r;
        }
        splitRe = new double[half + 1];
        splitIm = new double[half + 1];
        for (int k = 0; k <= half; k++) {
            splitRe[k] = Math.cos(-2 * Math.PI * k / n);
            splitIm[k] = Math.sin(-2 * Math.PI * k / n);
        }
        ar = new double[half];
        ai = new double[half];
        br = new double[half];
        bi = new double[half];
    }

    private static int[] factor(int m) {
        List<Integer> f = new ArrayList<>();
        int rest = m;
        for (int p : new int[] {4, 2, 3, 5}) {
            while (rest % p == 0) {
                f.add(p);
                rest /= p;
            }
        }
        if (rest != 1) {
            throw new IllegalArgumentException("RealFft supports n/2 made of factors 2, 3, 5; got n = " + (2 * m));
        }
        return f.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Power spectrum of {@code a[0..n)} for k = 0..n/2, with each spectrum value first rounded to float32 (as
     * numpy stores a complex64 spectrum): {@code power[k] = (double) (float) Re^2 + (double) (float) Im^2}.
     */
    void powerSpectrumOfFloat32(double[] a, double[] power) {
        transform(a);
        double[] xr = result[0];
        double[] xi = result[1];
        power[0] = sq((float) (xr[0] + xi[0]));
        power[half] = sq((float) (xr[0] - xi[0]));
        for (int k = 1; k < half; k++) {
            double zr = xr[k];
            double zi = xi[k];
            double cr = xr[half - k];
            double ci = -xi[half - k];
            double er = 0.5 * (zr + cr);
            double ei = 0.5 * (zi + ci);
            double or = 0.5 * (zi - ci);
            double oi = -0.5 * (zr - cr);
            double wr = splitRe[k];
            double wi = splitIm[k];
            float re = (float) (er + wr * or - wi * oi);
            float im = (float) (ei + wr * oi + wi * or);
            power[k] = (double) re * re + (double) im * im;
        }
    }

    private static double sq(float x) {
        return (double) x * x;
    }

    private final double[][] result = new double[2][];

    /** Complex FFT of z[k] = a[2k] + i a[2k+1]; the result arrays are left in {@link #result}. */
    private void transform(double[] a) {
        for (int k = 0; k < half; k++) {
            ar[k] = a[2 * k];
            ai[k] = a[2 * k + 1];
        }
        double[] xr = ar;
        double[] xi = ai;
        double[] yr = br;
        double[] yi = bi;
        int ns = 1;
        for (int s = 0; s < radices.length; s++) {
            int r = radices[s];
            stage(r, ns, twRe[s], twIm[s], xr, xi, yr, yi);
            double[] t = xr;
            xr = yr;
            yr = t;
            t = xi;
            xi = yi;
            yi = t;
            ns *= r;
        }
        result[0] = xr;
        result[1] = xi;
    }

    /** In-place forward transform of {@code a[0..n)}. */
    void realForward(double[] a) {
        transform(a); // z[k] = a[2k] + i a[2k+1]
        double[] xr = result[0];
        double[] xi = result[1];
        // split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h-k]) / 2, O = (Z[k] - conj Z[h-k]) / 2i
        a[0] = xr[0] + xi[0];
        a[1] = xr[0] - xi[0];
        for (int k = 1; k < half; k++) {
            double zr = xr[k];
            double zi = xi[k];
            double cr = xr[half - k];
            double ci = -xi[half - k];
            double er = 0.5 * (zr + cr);
            double ei = 0.5 * (zi + ci);
            double dr = 0.5 * (zr - cr);
            double di = 0.5 * (zi - ci);
            double or = di;   // (dr + i di) / i = di - i dr
            double oi = -dr;
            double wr = splitRe[k];
            double wi = splitIm[k];
            a[2 * k] = er + wr * or - wi * oi;
            a[2 * k + 1] = ei + wr * oi + wi * or;
        }
    }

    /** One Stockham radix-r pass: x -> y, current sub-transform size ns. */
    private void stage(int r, int ns, double[] tr, double[] ti, double[] xr, double[] xi, double[] yr,
                       double[] yi) {
        switch (r) {
            case 2 -> radix2(ns, tr, ti, xr, xi, yr, yi);
            case 4 -> radix4(ns, tr, ti, xr, xi, yr, yi);
            case 5 -> radix5(ns, tr, ti, xr, xi, yr, yi);
            default -> radix3(ns, tr, ti, xr, xi, yr, yi);
        }
    }

    private void radix2(int ns, double[] tr, double[] ti, double[] xr, double[] xi, double[] yr, double[] yi) {
        int count = half / 2;
        for (int j = 0; j < count; j++) {
            int out = (j / ns) * ns * 2 + j % ns;
            double pr = xr[j + count];
            double pi = xi[j + count];
            double wr = tr[2 * j + 1];
            double wi = ti[2 * j + 1];
            double br1 = pr * wr - pi * wi;
            double bi1 = pr * wi + pi * wr;
            yr[out] = xr[j] + br1;
            yi[out] = xi[j] + bi1;
            yr[out + ns] = xr[j] - br1;
            yi[out + ns] = xi[j] - bi1;
        }
    }

    private void radix4(int ns, double[] tr, double[] ti, double[] xr, double[] xi, double[] yr, double[] yi) {
        int count = half / 4;
        for (int j = 0; j < count; j++) {
            int out = (j / ns) * ns * 4 + j % ns;
            int tw = 4 * j;
            double v0r = xr[j];
            double v0i = xi[j];
            double pr = xr[j + count];
            double pi = xi[j + count];
            double v1r = pr * tr[tw + 1] - pi * ti[tw + 1];
            double v1i = pr * ti[tw + 1] + pi * tr[tw + 1];
            pr = xr[j + 2 * count];
            pi = xi[j + 2 * count];
            double v2r = pr * tr[tw + 2] - pi * ti[tw + 2];
            double v2i = pr * ti[tw + 2] + pi * tr[tw + 2];
            pr = xr[j + 3 * count];
            pi = xi[j + 3 * count];
            double v3r = pr * tr[tw + 3] - pi * ti[tw + 3];
            double v3i = pr * ti[tw + 3] + pi * tr[tw + 3];
            double s0r = v0r + v2r;
            double s0i = v0i + v2i;
            double d0r = v0r - v2r;
            double d0i = v0i - v2i;
            double s1r = v1r + v3r;
            double s1i = v1i + v3i;
            double d1r = v1r - v3r;
            double d1i = v1i - v3i;
            yr[out] = s0r + s1r;
            yi[out] = s0i + s1i;
            yr[out + 2 * ns] = s0r - s1r;
            yi[out + 2 * ns] = s0i - s1i;
            // -i * d1 = d1i - i d1r
            yr[out + ns] = d0r + d1i;
            yi[out + ns] = d0i - d1r;
            yr[out + 3 * ns] = d0r - d1i;
            yi[out + 3 * ns] = d0i + d1r;
        }
    }

    private void radix5(int ns, double[] tr, double[] ti, double[] xr, double[] xi, double[] yr, double[] yi) {
        int count = half / 5;
        for (int j = 0; j < count; j++) {
            int out = (j / ns) * ns * 5 + j % ns;
            int tw = 5 * j;
            double v0r = xr[j];
            double v0i = xi[j];
            double pr = xr[j + count];
            double pi = xi[j + count];
            double v1r = pr * tr[tw + 1] - pi * ti[tw + 1];
            double v1i = pr * ti[tw + 1] + pi * tr[tw + 1];
            pr = xr[j + 2 * count];
            pi = xi[j + 2 * count];
            double v2r = pr * tr[tw + 2] - pi * ti[tw + 2];
            double v2i = pr * ti[tw + 2] + pi * tr[tw + 2];
            pr = xr[j + 3 * count];
            pi = xi[j + 3 * count];
            double v3r = pr * tr[tw + 3] - pi * ti[tw + 3];
            double v3i = pr * ti[tw + 3] + pi * tr[tw + 3];
            pr = xr[j + 4 * count];
            pi = xi[j + 4 * count];
            double v4r = pr * tr[tw + 4] - pi * ti[tw + 4];
            double v4i = pr * ti[tw + 4] + pi * tr[tw + 4];
            // y_m = v0 + sum_q v_q w^(mq), paired as (v1 + v4), (v2 + v3)
            double s1r = v1r + v4r;
            double s1i = v1i + v4i;
            double d1r = v1r - v4r;
            double d1i = v1i - v4i;
            double s2r = v2r + v3r;
            double s2i = v2i + v3i;
            double d2r = v2r - v3r;
            double d2i = v2i - v3i;
            double ar1 = v0r + C1 * s1r + C2 * s2r;
            double ai1 = v0i + C1 * s1i + C2 * s2i;
            double ar2 = v0r + C2 * s1r + C1 * s2r;
            double ai2 = v0i + C2 * s1i + C1 * s2i;
            // -i * (S1 d1 + S2 d2) and -i * (S2 d1 - S1 d2), with S = sin(2 pi q / 5)
            double b1r = S1 * d1i + S2 * d2i;
            double b1i = -(S1 * d1r + S2 * d2r);
            double b2r = S2 * d1i - S1 * d2i;
            double b2i = -(S2 * d1r - S1 * d2r);
            yr[out] = v0r + s1r + s2r;
            yi[out] = v0i + s1i + s2i;
            yr[out + ns] = ar1 + b1r;
            yi[out + ns] = ai1 + b1i;
            yr[out + 4 * ns] = ar1 - b1r;
            yi[out + 4 * ns] = ai1 - b1i;
            yr[out + 2 * ns] = ar2 + b2r;
            yi[out + 2 * ns] = ai2 + b2i;
            yr[out + 3 * ns] = ar2 - b2r;
            yi[out + 3 * ns] = ai2 - b2i;
        }
    }

    private void radix3(int ns, double[] tr, double[] ti, double[] xr, double[] xi, double[] yr, double[] yi) {
        int count = half / 3;
        for (int j = 0; j < count; j++) {
            int out = (j / ns) * ns * 3 + j % ns;
            for (int q = 0; q < 3; q++) {
                double pr = xr[j + q * count];
                double pi = xi[j + q * count];
                double wr = tr[3 * j + q];
                double wi = ti[3 * j + q];
                vr[q] = pr * wr - pi * wi;
                vi[q] = pr * wi + pi * wr;
            }
            for (int m = 0; m < 3; m++) {
                double sr = 0;
                double si = 0;
                for (int q = 0; q < 3; q++) {
                    int e = (m * q) % 3;
                    sr += vr[q] * COS3[e] - vi[q] * SIN3[e];
                    si += vr[q] * SIN3[e] + vi[q] * COS3[e];
                }
                yr[out + m * ns] = sr;
                yi[out + m * ns] = si;
            }
        }
    }

    private static final double C1 = Math.cos(2 * Math.PI / 5);
    private static final double C2 = Math.cos(4 * Math.PI / 5);
    private static final double S1 = Math.sin(2 * Math.PI / 5);
    private static final double S2 = Math.sin(4 * Math.PI / 5);

    private static final double[] COS3 = roots(3, true);
    private static final double[] SIN3 = roots(3, false);

    private static double[] roots(int r, boolean cos) {
        double[] v = new double[r];
        for (int e = 0; e < r; e++) {
            double angle = -2 * Math.PI * e / r;
            v[e] = cos ? Math.cos(angle) : Math.sin(angle);
        }
        return v;
    }
}
