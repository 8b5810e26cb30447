/*
 * vnni_peak.c - benchmark (not a test): the machine's int8 limit for one core. Runs 12
 * independent chains of vpdpbusd (AVX-512 VNNI, zmm, 64 u8 x s8 MACs each) and of the ymm form,
 * and prints G instructions/s and GMAC/s. The chains start from different values so the compiler
 * cannot merge them. docs/performance.md quotes it as the limit the cpu backend is held to.
 * x86-64 with AVX-512 VNNI only (built by CMake on x86).
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  __m512i a=_mm512_set1_epi32(0x01020304), b=_mm512_set1_epi32(0x01010101);
  __m512i c0=_mm512_set1_epi32(0),c1=_mm512_set1_epi32(1),c2=_mm512_set1_epi32(2),c3=_mm512_set1_epi32(3),c4=_mm512_set1_epi32(4),c5=_mm512_set1_epi32(5),c6=_mm512_set1_epi32(6),c7=_mm512_set1_epi32(7),c8=_mm512_set1_epi32(8),c9=_mm512_set1_epi32(9),c10=_mm512_set1_epi32(10),c11=_mm512_set1_epi32(11);
  long n=200000000; double t0=now();
  for(long i=0;i<n;i++){ c0=_mm512_dpbusd_epi32(c0,a,b);c1=_mm512_dpbusd_epi32(c1,a,b);c2=_mm512_dpbusd_epi32(c2,a,b);c3=_mm512_dpbusd_epi32(c3,a,b);c4=_mm512_dpbusd_epi32(c4,a,b);c5=_mm512_dpbusd_epi32(c5,a,b);c6=_mm512_dpbusd_epi32(c6,a,b);c7=_mm512_dpbusd_epi32(c7,a,b);c8=_mm512_dpbusd_epi32(c8,a,b);c9=_mm512_dpbusd_epi32(c9,a,b);c10=_mm512_dpbusd_epi32(c10,a,b);c11=_mm512_dpbusd_epi32(c11,a,b); __asm__ volatile("" : "+v"(a)); }
  double t=now()-t0; __m512i s=_mm512_add_epi32(c0,_mm512_add_epi32(c1,_mm512_add_epi32(c2,_mm512_add_epi32(c3,_mm512_add_epi32(c4,_mm512_add_epi32(c5,_mm512_add_epi32(c6,_mm512_add_epi32(c7,_mm512_add_epi32(c8,_mm512_add_epi32(c9,_mm512_add_epi32(c10,c11)))))))))));
  printf("zmm dpbusd: %.2f G/s = %.1f GMAC/s (chk %d)\n", n*12/t/1e9, n*12*64/t/1e9, _mm512_cvtsi512_si32(s));
  __m256i ya=_mm256_set1_epi32(0x01020304), yb=_mm256_set1_epi32(0x01010101);
  __m256i y0=_mm256_set1_epi32(0),y1=_mm256_set1_epi32(1),y2=_mm256_set1_epi32(2),y3=_mm256_set1_epi32(3),y4=_mm256_set1_epi32(4),y5=_mm256_set1_epi32(5),y6=_mm256_set1_epi32(6),y7=_mm256_set1_epi32(7),y8=_mm256_set1_epi32(8),y9=_mm256_set1_epi32(9),y10=_mm256_set1_epi32(10),y11=_mm256_set1_epi32(11);
  t0=now();
  for(long i=0;i<n;i++){ y0=_mm256_dpbusd_epi32(y0,ya,yb);y1=_mm256_dpbusd_epi32(y1,ya,yb);y2=_mm256_dpbusd_epi32(y2,ya,yb);y3=_mm256_dpbusd_epi32(y3,ya,yb);y4=_mm256_dpbusd_epi32(y4,ya,yb);y5=_mm256_dpbusd_epi32(y5,ya,yb);y6=_mm256_dpbusd_epi32(y6,ya,yb);y7=_mm256_dpbusd_epi32(y7,ya,yb);y8=_mm256_dpbusd_epi32(y8,ya,yb);y9=_mm256_dpbusd_epi32(y9,ya,yb);y10=_mm256_dpbusd_epi32(y10,ya,yb);y11=_mm256_dpbusd_epi32(y11,ya,yb); __asm__ volatile("" : "+v"(ya)); }
  t=now()-t0; __m256i ys=_mm256_add_epi32(y0,_mm256_add_epi32(y1,_mm256_add_epi32(y2,_mm256_add_epi32(y3,_mm256_add_epi32(y4,_mm256_add_epi32(y5,_mm256_add_epi32(y6,_mm256_add_epi32(y7,_mm256_add_epi32(y8,_mm256_add_epi32(y9,_mm256_add_epi32(y10,y11)))))))))));
  printf("ymm dpbusd: %.2f G/s = %.1f GMAC/s (chk %d)\n", n*12/t/1e9, n*12*32/t/1e9, _mm256_extract_epi32(ys,0));
}
