/* model.h - the neural n-gram language model (Bengio et al. 2003, the MLP of
 * makemore): look up the embeddings of the previous T characters, concatenate
 * them, pass them through L hidden layers (linear, then tanh), and score every
 * character of the vocabulary with a final linear layer; softmax cross-entropy
 * against the actual next character is the loss.
 *
 * Legend for every shape in model/:
 *   B  batch size (rows)          T  context length (characters)
 *   E  embedding size             H  hidden layer width
 *   V  vocabulary size            L  number of hidden layers
 *
 * Never opens files, prints or exits; see ckpt.h for the bytes of a model. */
#ifndef TINYCHAR_MODEL_H
#define TINYCHAR_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/rng.h"
#include "table.h"

#define MODEL_MAX_LAYERS 8
/* embedding, L x (weight, bias), output weight, output bias */
#define MODEL_MAX_TENSORS (2 * MODEL_MAX_LAYERS + 3)

/* Upper bounds on the config, far above any useful tiny model, so sizes that
 * pass the check cannot overflow int arithmetic in the kernels. */
#define MODEL_MAX_CONTEXT 1024
#define MODEL_MAX_EMBED 4096
#define MODEL_MAX_HIDDEN 65536
#define MODEL_MAX_VOCAB 0x110001

typedef struct {
    int context;  /* T */
    int embed;    /* E */
    int hidden;   /* H */
    int layers;   /* L */
    int vocab;    /* V */
} ModelConfig;

/* One named parameter tensor: rows x cols floats at `offset` in the
 * parameter array. decay: a weight matrix, which weight decay applies to. */
typedef struct {
    char name[32];
    size_t offset;
    size_t rows, cols;
    int decay;
} TensorInfo;

/* Named views into one contiguous array (parameters, or their gradients). */
typedef struct {
    float *emb;                     /* (V, E)  the embedding table */
    float *w[MODEL_MAX_LAYERS];     /* layer l: (H, IN_l), IN_0 = T*E, else H */
    float *b[MODEL_MAX_LAYERS];     /* layer l: (H) */
    float *wout;                    /* (V, H) */
    float *bout;                    /* (V) */
} ParamViews;

typedef struct {
    ModelConfig cfg;
    size_t n_params;
    float *params;     /* (n_params) every parameter, in model_tensors order;
                        * the start of the block that also holds grads */
    float *grads;      /* (n_params) d loss / d params, same layout */
    ParamViews p, g;
    TensorInfo tensors[MODEL_MAX_TENSORS]; /* model_tensors(&cfg) */
    int n_tensors;
} Model;

/* Checks every size is in range and the parameter count fits in memory
 * arithmetic; the message names the offending field. */
int model_config_check(const ModelConfig *cfg, Error *err);
/* Number of parameters (cfg must pass model_config_check). */
size_t model_param_count(const ModelConfig *cfg);
/* Lists the parameter tensors in storage order; returns how many. */
int model_tensors(const ModelConfig *cfg, TensorInfo out[MODEL_MAX_TENSORS]);

/* Allocates parameters and gradients (all zero). */
int model_init(Model *m, const ModelConfig *cfg, Error *err);
void model_free(Model *m);

/* Random initialisation: embeddings N(0, 1); hidden weights N(0, 1) scaled by
 * (5/3)/sqrt(fan_in), the tanh gain, so activations neither vanish nor
 * saturate; biases 0; output weights small so the first logits are nearly
 * equal and the step-0 loss is close to ln(V), the loss of a uniform guess. */
void model_randomize(Model *m, Rng *rng);

/* From this many parameters, clearing the gradients and the optimizer's
 * update run on every thread, each on a contiguous range of each tensor
 * (the same ranges in both, so a thread clears cache lines already in its
 * core's cache); below it, on the calling thread. A model whose
 * parameters, gradients and moments fit in one core's caches gains little
 * from a second core, which must fetch its half from the other core's
 * cache. The names model of the bench's M config (57K parameters) is
 * above it: clearing at 2 threads took 8 us a step instead of 16 on one
 * thread after a 2-thread update. */
#define MODEL_PARAMS_PARALLEL_MIN (1L << 15)

/* Every gradient = 0. */
void model_zero_grad(Model *m);

/* Per-batch work buffers, allocated once for up to max_batch rows. */
typedef struct {
    int max_batch;
    int training;                  /* backward buffers allocated */
    float *x;                      /* (B, T*E) concatenated embeddings */
    float *h[MODEL_MAX_LAYERS];    /* (B, H) output of hidden layer l (after tanh) */
    float *logits;                 /* (B, V) */
    float *probs;                  /* (B, V) softmax of logits */
    float *losses;                 /* (B) loss of each row */
    float *dlogits;                /* (B, V) training only */
    float *dh;                     /* (B, H) training only: d loss / d h_l */
    float *dz;                     /* (B, H) training only: d loss / d (pre-tanh) */
    float *dx;                     /* (B, T*E) training only */
    /* The first layer by table (table.h), when it is the cheaper route: */
    float *table;                  /* (T, V, H) in blocks of hidden units
                                    * (table_at), or NULL: the direct route;
                                    * model_backward overwrites it with its
                                    * gradient, as the next forward pass
                                    * builds it anew */
    float *demb_parts;             /* training with the table: each block
                                    * of hidden units' part of d emb
                                    * (table.h) */
    TableRows table_rows;          /* with the table (but for generation):
                                    * the rows the last batch read, all
                                    * that an unfrozen table builds */
    int frozen;                    /* table holds every character's row for
                                    * these weights: keep it (generation) */
    int hidden_blocks;             /* h[0] and dz stored in blocks of
                                    * hidden units (blocks.h): a one-layer
                                    * model with the table, for batches of
                                    * more than one row */
    float *logit_parts;            /* with hidden_blocks: (H blocks, B, V),
                                    * each block's part of the logits */
} Activations;

/* Allocates the buffers for batches of up to max_batch rows, with the table
 * route when model_table_pays(cfg, max_batch). */
int acts_init(Activations *a, const ModelConfig *cfg, int max_batch,
              int training, Error *err);

/* Whether the first layer by table costs less than the direct route for
 * batches of max_batch rows (about V < B), and the table is of a sensible
 * size (at most MODEL_TABLE_MAX_FLOATS). */
#define MODEL_TABLE_MAX_FLOATS (64L << 20)
int model_table_pays(const ModelConfig *cfg, int max_batch);

/* Switches a's first layer to the table route (use = 1, allocating the
 * table) or the direct route (use = 0, freeing it). Both give the same
 * results up to rounding; the tests compare them. */
int acts_use_table(Activations *a, const ModelConfig *cfg, int use, Error *err);

/* For generation, where the weights no longer change: builds the table of
 * every character from m's weights once (if it fits in
 * MODEL_TABLE_MAX_FLOATS), and every later model_forward on `a` reuses it,
 * so a character costs T row additions instead of a (T*E, H)
 * matrix-vector product. Do not change m's weights afterwards without
 * calling acts_freeze again. Refuses activations for training (their
 * backward pass needs the rows each batch reads, table.h). */
int acts_freeze(Activations *a, const Model *m, Error *err);

/* Bytes that model_init + acts_init(max_batch, training) + n_moments
 * optimizer arrays allocate, as a double so no product can overflow; lets a
 * program refuse a model too big for the machine before allocating it. */
double model_memory_bytes(const ModelConfig *cfg, int max_batch, int training,
                          int n_moments);
void acts_free(Activations *a);

/* Forward pass of `batch` rows. ctx (B, T). Logits land in a->logits. With
 * targets (B) it also computes probs and per-row losses and returns the mean
 * loss; without, it returns 0. */
double model_forward(const Model *m, Activations *a, const int32_t *ctx,
                     const int32_t *targets, int batch);

/* Backward pass after model_forward with the same ctx and targets: adds
 * d(mean loss)/d(parameter) into m->grads. On the table route it leaves the
 * table's gradient in a->table: the next model_forward builds the table
 * again. */
void model_backward(Model *m, Activations *a, const int32_t *ctx,
                    const int32_t *targets, int batch);

#endif
