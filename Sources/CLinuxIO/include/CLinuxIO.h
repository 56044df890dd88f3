// CLinuxIO: the few Linux kernel interfaces the camera side needs, as plain C functions Swift
// can call (ioctl is variadic and the request numbers are macros Swift does not import).
//
// - GPIO character device, v2 uAPI (<linux/gpio.h>): request output lines, set their values.
// - V4L2 capture (<linux/videodev2.h>): open a camera at a size in MJPEG or YUYV, stream
//   through memory-mapped buffers, dequeue and requeue frames.
//
// Every function returns 0 (or a file descriptor) on success and -errno on failure; calls are
// retried on EINTR inside. No allocation beyond what the kernel maps.
#ifndef CLINUXIO_H
#define CLINUXIO_H

#include <stddef.h>
#include <stdint.h>

// MARK: GPIO (v2 character-device uAPI)

/// Requests `count` lines (`offsets`, BCM numbers on a Raspberry Pi) of the open chip `chip_fd`
/// as outputs driven LOW. Returns the line-request file descriptor (close it to release them).
int clinuxio_gpio_request_outputs(int chip_fd, const uint32_t *offsets, uint32_t count, const char *consumer);

/// Sets the lines selected by `mask` (bit i = the i-th requested offset) to `bits`.
int clinuxio_gpio_set_values(int request_fd, uint64_t bits, uint64_t mask);

/// The most lines one request may hold (GPIO_V2_LINES_MAX).
uint32_t clinuxio_gpio_lines_max(void);

// MARK: V4L2 capture

#define CLINUXIO_V4L2_MAX_BUFFERS 4

/// Pixel formats this client accepts, in order of preference.
enum clinuxio_pixel_format { CLINUXIO_MJPEG = 1, CLINUXIO_YUYV = 2 };

struct clinuxio_camera {
    int fd;
    uint32_t width, height;          // what the driver granted
    uint32_t bytes_per_line;         // YUYV row stride
    enum clinuxio_pixel_format format;
    uint32_t buffer_count;
    void *buffers[CLINUXIO_V4L2_MAX_BUFFERS];
    size_t lengths[CLINUXIO_V4L2_MAX_BUFFERS];
};

/// Opens `path` (e.g. /dev/video0), asks for width x height in MJPEG, else YUYV, maps the
/// buffers and starts streaming. On failure nothing stays open.
int clinuxio_camera_open(const char *path, uint32_t width, uint32_t height, int allow_mjpeg,
                         struct clinuxio_camera *camera);

/// Waits up to `timeout_ms` for a frame; on success `*index` and `*bytes_used` name it (its
/// bytes are `camera->buffers[*index]`) until `clinuxio_camera_requeue(camera, *index)`, and
/// `*corrupt` is 1 when the driver flagged the buffer (V4L2_BUF_FLAG_ERROR: skip it).
/// Returns -ETIMEDOUT when no frame came in time.
int clinuxio_camera_dequeue(struct clinuxio_camera *camera, int timeout_ms, uint32_t *index, uint32_t *bytes_used,
                            int *corrupt);

/// Gives buffer `index` back to the driver.
int clinuxio_camera_requeue(struct clinuxio_camera *camera, uint32_t index);

/// Stops streaming, unmaps and closes.
void clinuxio_camera_close(struct clinuxio_camera *camera);

#endif
